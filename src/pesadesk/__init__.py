"""pesadesk: a self-hosted M-Pesa payments desk."""

__version__ = "0.1.0"
