"""The dashboard: HTML pages and htmx fragments over the cluster services (cluster/services.py).

Views stay thin: they turn form fields into Kubernetes objects (forms.py), call the services
and render the API's answer.  The live picture is drawn in the browser from the frames the
WebSocket consumer streams (static/js/).
"""
