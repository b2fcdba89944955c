"""Text-generation backends behind one interface (:class:`TextGenerator`).

``agents.backends.hf`` (transformers) is imported on demand so that importing this
package does not pull in torch.
"""

from agents.backends.base import Chat, SamplingParams, TextGenerator

__all__ = ["Chat", "SamplingParams", "TextGenerator"]
