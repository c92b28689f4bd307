"""The node's container runtime and what it runs.

    images.py    the simulated registry: image references normalised as containerd reports
                 them, a catalogue of repositories and tags with sizes and digests, pull errors
    process.py   what a simulated program is: a generator of system calls (sleep, write, exit)
                 driven in virtual time, with argv, environment, files and signals
    shell.py     the small POSIX shell busybox, alpine and ubuntu images run (sh -c '...')
"""
