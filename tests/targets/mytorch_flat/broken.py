"""A submodule that cannot be imported: derive says so where it skips, and checks the rest."""
import a_module_that_does_not_exist  # noqa: F401
