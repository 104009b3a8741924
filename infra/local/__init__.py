"""The local stack of `make run`: template.yaml on one machine, AWS emulated by moto's server."""
