"""battrace: traceability and supervision of EV power batteries through their whole life."""

__version__ = "0.1.0"
