"""Order cancellation service: the code package every Lambda function ships."""
