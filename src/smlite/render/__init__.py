"""Render layer: views to text, rich renderables and JSON.  Never reads files."""
