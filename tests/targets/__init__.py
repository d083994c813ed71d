"""Sample user targets for the verifier's tests (not part of the product)."""
