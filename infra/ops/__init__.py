"""Tools for the people who run the service: `orders-warehouse`, the Ops team's view of the queue."""
