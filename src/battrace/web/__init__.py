"""The web dashboard for regulators and enterprises, in Chinese and English (docs/dashboard.md).

Server-rendered pages under ``/ui/`` served by the API application, reading through the same
services and authorisation rules as the API: :mod:`.routes` (the pages), :mod:`.pages` (what
each shows), :mod:`.figcache` (compliance figures computed in the background), :mod:`.charts`
(plotly figures), :mod:`.tilemap` (the province map), :mod:`.proofs` (inclusion proofs of a
battery's events), :mod:`.i18n` (the two languages).
"""
