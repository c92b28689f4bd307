"""One module per upstream plugin (pkg/scheduler/framework/plugins/...)."""
