// placeholder so the library has a source until the pipeline code lands
