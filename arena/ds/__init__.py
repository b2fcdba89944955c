"""The decide/sample (DS) experiments behind ``arena ds run`` (see ``docs/ds.md``).

Which training signal (RL with or without a KL penalty, SFT) moves which part of a
policy: the sampling part that writes an attempt or the decision part that accepts it.
:mod:`.experiment` is the entry point; :mod:`.tabular`/:mod:`.tabular_run` train the
claims' toy, :mod:`.llm`/:mod:`.llm_train`/:mod:`.llm_run` a causal LM with the two
parts masked apart, :mod:`.attribution` measures gradients per component and writes
each DS claim's records, :mod:`.rundir` writes the run folder. The DS theorems are a
reconstruction from the paper's abstract (``theory.claims.ds``).
"""
