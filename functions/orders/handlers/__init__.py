"""One module per Lambda function; each registers its route and exports `handler`."""
