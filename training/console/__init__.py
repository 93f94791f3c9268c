"""The browser console of the training sandbox: trainees play exercises, instructors grade.

`gridloop console` serves it (FastAPI + uvicorn); `gridloop users add` makes accounts. The
app lives in `training.console.app`, its records in `training.console.db`, the live sessions
in `training.console.play`. Needs the optional extra ``gridloop[console]``.
"""
