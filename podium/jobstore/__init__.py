"""The job store port: admin jobs (rebuild, replay, reconcile) and their leases, so every
process sees every job and a job whose process died is ended or taken over."""
