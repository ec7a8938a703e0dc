"""Inside an app's sandbox: the client that starts the student's app and asks it for digits."""
