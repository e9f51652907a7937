"""gwdag: turn a stream of astronomical alerts into HTCondor DAGs and run them."""

__version__ = "0.1.0"
