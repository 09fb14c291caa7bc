"""riskplan: an EU Risk Management Plan run as software."""

__version__ = "0.1.0"
