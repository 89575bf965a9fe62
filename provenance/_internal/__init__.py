"""Implementation details that are not the library's API (as in sigstore-python's
``_internal``): names here may change in any release. Import from :mod:`provenance` instead."""
