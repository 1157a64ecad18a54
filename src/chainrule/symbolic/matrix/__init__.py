"""chainrule.symbolic.matrix (work in progress)."""
