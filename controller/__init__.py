"""Master control: orders, assignment, path planning, execution, fleet supervision, sortation."""
