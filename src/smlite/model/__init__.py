"""Model layer: protos to frozen, typed views.  Knows meaning, not terminals."""
