"""A zoo of plausible wrong backward functions (functions style), to measure what the verifier catches."""
