"""winportlint: AWS security groups that expose Windows-default ports to the internet."""

__version__ = "0.1.0"
