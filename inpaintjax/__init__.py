"""inpaintjax: reconstructing missing or damaged pixels in small images, in JAX/Flax."""
