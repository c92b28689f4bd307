"""autoscaling: HorizontalPodAutoscalers (v2, and v1 by conversion)."""
