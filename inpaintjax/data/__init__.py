"""Data: sources -> masks/distortions/augmentation -> pipeline."""
