"""Trusted code that runs inside the student's kernel (in the sandbox) and writes plain data.

Nothing in this package is imported by the grader's own process at grading time, except the
plain-data schema helpers; the probes themselves only ever run inside the sandbox.
"""
