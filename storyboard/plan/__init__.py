"""Stage 2, the plan: compile each shot into its exact request and price (compiler), and
decide what a render does to each shot (decide). No network."""
