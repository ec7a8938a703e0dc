"""grader: an autograder for the course "Neural-network technologies of data analysis"."""
from __future__ import annotations

__version__ = "0.1.0"
