"""Staffing: Erlang C (erlang.py), demand from the hall's history (demand.py, estimate.py), advice
per service and hour and the chain of cross-trained counters (advise.py), checked by the whole-day
simulator (check.py), the Vietnamese report (report.py). `python -m hallserver.staffing --help`.

Pure computation; the store query is hallserver/store/history.py, the HTTP routes
hallserver/http/staffing.py.
"""
