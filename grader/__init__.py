"""grader: grades answers to computer-vision interview questions against rubrics."""

__version__ = "0.1.0"
