"""The REST API v1 (../shared/api.md): thin DRF views over the service functions."""
