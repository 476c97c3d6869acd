"""One module per page, each with a ``render()`` function: layout only, no computation. (Not named
``pages``: Streamlit would take a ``pages/`` folder beside main.py for its older multipage layout.)"""
