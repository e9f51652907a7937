"""Operations: error reporting, monitoring checks, metrics, cleanup, deployment."""
