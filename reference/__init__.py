"""Reference implementations the grader checks student work against."""
