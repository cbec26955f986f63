# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask mail hosts through SMTP what they answer for recipients, the way a sender would.

Runs inside a scenario's container (not on the mail host: the tests must come from a
non-loopback address), reads its job as JSON on the command line and prints one JSON
line per SMTP session:

    {"t": 1764489000.12, "server": "10.213.47.21", "codes": {"john@example.org": 250}, "error": null}

Job keys: servers (addresses), recipients, sender, rounds (at most this many sessions per
server), interval (seconds between rounds), deadline (seconds in all), until_accepted
(stop asking a server once this recipient got 250), stop_file (stop once this file exists).
Every loop is bounded in count and time, and talks only to the servers given.
"""

import json
import os
import smtplib
import socket
import sys
import time


def session(server, sender, recipients, timeout):
    """One SMTP session: EHLO, MAIL FROM, RCPT TO each recipient; {recipient: code}."""
    codes = {}
    client = smtplib.SMTP(server, 25, local_hostname='probe.mailfleet.invalid', timeout=timeout)
    try:
        client.ehlo()
        code, _message = client.mail(sender)
        if code != 250:
            return dict((rcpt, code) for rcpt in recipients)
        for rcpt in recipients:
            codes[rcpt] = client.rcpt(rcpt)[0]
        client.rset()
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, socket.error):
            client.close()
    return codes


def main():
    job = json.loads(sys.argv[1])
    servers = list(job['servers'])
    recipients = list(job['recipients'])
    sender = job.get('sender', 'probe@example.net')
    rounds = min(int(job.get('rounds', 1)), 10000)
    interval = float(job.get('interval', 0))
    deadline = time.time() + min(float(job.get('deadline', 60)), 900)
    until_accepted = job.get('until_accepted')
    timeout = float(job.get('timeout', 10))
    stop_file = job.get('stop_file')
    for _round in range(rounds):
        if not servers or time.time() > deadline or (stop_file and os.path.exists(stop_file)):
            break
        started = time.time()
        for server in list(servers):
            line = dict(t=time.time(), server=server, codes={}, error=None)
            try:
                line['codes'] = session(server, sender, recipients, timeout)
            except (smtplib.SMTPException, socket.error) as exc:
                line['error'] = '%s: %s' % (type(exc).__name__, exc)
            print(json.dumps(line), flush=True)
            if until_accepted and line['codes'].get(until_accepted) == 250:
                servers.remove(server)
        pause = interval - (time.time() - started)
        if pause > 0:
            time.sleep(pause)


if __name__ == '__main__':
    main()
