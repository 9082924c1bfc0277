"""Seed a demo network of developers from a CSV file, then show what one of them sees.

    python examples/python/seed_and_feed.py --csv examples/python/developers.csv \\
        --db sqlite://demo/devconnect.db

Needs the `devconnect` module (`pip install ./bindings/python`). Running it twice is
fine: existing accounts are logged into instead of created again.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import devconnect

PASSWORD = "Demo!pass1"


def seed(app: devconnect.DevConnect, csv_path: Path) -> list[devconnect.Me]:
    """Creates (or logs into) one account per CSV row; returns their profiles."""
    users = []
    with csv_path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                auth = app.signup(
                    row["first_name"],
                    row["email"],
                    PASSWORD,
                    last_name=row["last_name"],
                    age=int(row["age"]) if row["age"] else None,
                    gender=row["gender"] or None,
                    about=row["about"],
                    skills=[s for s in row["skills"].split(";") if s],
                )
            except devconnect.ConflictError:
                auth = app.login(row["email"], PASSWORD)
            users.append(auth["user"])
    return users


def befriend(app: devconnect.DevConnect, a: devconnect.Me, b: devconnect.Me, note: str) -> None:
    """`a` asks `b` to connect and `b` accepts (skipped if they already have a request)."""
    try:
        request = app.send_request(a["_id"], b["_id"], "interested", note)
    except devconnect.ConflictError:
        return
    app.review_request(b["_id"], request["_id"], "accepted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=Path(__file__).with_name("developers.csv"))
    parser.add_argument("--db", default="sqlite://devconnect-demo.db", help="sqlite://PATH or sqlite::memory:")
    parser.add_argument("--skill", action="append", default=[], help="only show developers with this skill")
    args = parser.parse_args()

    with devconnect.DevConnect.open(args.db) as app:
        users = seed(app, args.csv)
        ada, *others = users
        print(f"Seeded {len(users)} developers.")

        # Ada connects with the next two developers and passes on the third.
        for other in others[:2]:
            befriend(app, ada, other, f"Hi {other['firstName']}, fellow {other['skills'][0]} fan here!")
        try:
            app.send_request(ada["_id"], others[2]["_id"], "ignored")
        except devconnect.ConflictError:
            pass

        # A short chat, seen live by Ada's subscription.
        friend = others[0]
        with app.subscribe(ada["_id"], timeout=5) as events:
            app.send_message(friend["_id"], ada["_id"], "Welcome to DevConnect!")
            for event in events:
                if event["event"] == "newMessage":
                    print(f"Live: {friend['firstName']} says {event['data']['text']!r}")
                    break

        print(f"\n{ada['firstName']}'s connections:")
        for p in app.connections(ada["_id"]):
            print(f"  - {p['firstName']} {p['lastName']} ({', '.join(p['skills'])})")

        page_no, shown = 1, 0
        print(f"\nFeed for {ada['firstName']} {ada['lastName']}" + (f" (skills: {args.skill})" if args.skill else ""))
        while True:
            page = app.feed(ada["_id"], page=page_no, limit=3, skills=args.skill)
            for p in page["profiles"]:
                shown += 1
                name = f"{p['firstName']} {p['lastName']}"
                joined = p["createdAt"].strftime("%Y-%m-%d")
                print(f"  {shown:2}. {name:<20} {', '.join(p['skills']):<28} joined {joined}")
            if not page["hasMore"]:
                break
            page_no += 1
        print(f"({shown} developers to discover)")


if __name__ == "__main__":
    main()
