"""Interpreters over the primitive set: forward (JVP) and reverse (VJP tape)."""
