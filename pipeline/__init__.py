"""provenance: boilerplate stripping and paragraph provenance for crawled web pages."""

__version__ = "0.1.0"
