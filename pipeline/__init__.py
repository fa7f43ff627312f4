"""provenance: boilerplate stripping and paragraph provenance for crawled web pages."""

__version__ = "0.1.0"

from pipeline.load import load  # noqa: E402 - after __version__, which the modules it imports may read

__all__ = ["__version__", "load"]
