"""Public views, one module per feature: public pages, signing, delivery outputs."""
