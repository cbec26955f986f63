# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module that changes a Postfix configuration needs besides the files themselves.

- One lock per configuration directory (ConfigLock), so that two runs at once (two
  admins, a timer and an admin) take turns instead of mixing their reads and writes.
- The reload a change owes (PendingReload). Postfix daemons keep the tables they opened
  until ``postfix reload``; a run killed between a change and its reload would leave
  them serving the old configuration while the files on disk say otherwise, and the
  next run would find nothing to change. So the debt is written down before the first
  live change and settled only after the reload: the next run pays it.
- The postfix(1) runner (PostfixRunner): status, check, reload.

Both the lock and the debt live under /run: a reboot starts every daemon afresh from
the files on disk, which is exactly when no reload is owed any more.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import hashlib
import json
import os
import time

from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import C_LOCALE_ENV

RUN_DIR = '/run/mailfleet.postfix_mysql'

# How often a waiting run looks at the lock again.
_LOCK_POLL_SECONDS = 0.2


def instance_name(config_dir):
    """A file name for a configuration directory: readable, and distinct for distinct
    directories (``/etc/postfix`` -> ``etc-postfix.9d1c...``)."""
    normalized = os.path.normpath(config_dir or '/etc/postfix')
    readable = normalized.strip('/').replace('/', '-') or 'root'
    return '%s.%s' % (readable, hashlib.sha1(to_bytes(normalized)).hexdigest()[:8])


def _ensure_run_dir(run_dir):
    try:
        os.makedirs(run_dir, 0o700)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise


class LockTimeout(Exception):
    """Another run held the lock for longer than this one would wait."""

    def __init__(self, path, waited, holder, config_dir):
        self.path = path
        self.config_dir = config_dir
        self.waited = waited
        self.holder = holder or {}
        super(LockTimeout, self).__init__(self.message)

    @property
    def message(self):
        holder = self.holder
        who = 'another run'
        if holder.get('pid'):
            who += ' (%s, pid %s, since %s)' % (
                holder.get('what', 'a module'), holder['pid'], holder.get('since', 'an unknown time'))
        return ('%s is changing the Postfix configuration in %s; gave up after waiting %d s for it to finish. '
                'Run again when it is done, or raise lock_timeout' % (who, self.config_dir, self.waited))


class ConfigLock(object):
    """An exclusive flock(2) per configuration directory, held for one module run.

    The kernel drops the lock when the holding process ends, however it ends, so a
    killed run never leaves a stale lock behind.
    """

    def __init__(self, config_dir, what, run_dir=None):
        self.config_dir = config_dir
        self.what = what
        self.run_dir = run_dir or RUN_DIR
        self.path = os.path.join(self.run_dir, instance_name(config_dir) + '.lock')
        self._fd = None

    def _holder(self):
        """Who holds the lock, as the holder wrote it; {} when it did not (another tool's
        flock) or when that process is gone (killed before it could clear its name)."""
        try:
            with open(self.path) as handle:
                holder = json.loads(handle.read() or '{}')
            if holder.get('pid'):
                os.kill(int(holder['pid']), 0)
            return holder
        except (IOError, OSError, ValueError, TypeError):
            return {}

    def acquire(self, timeout):
        """Wait up to TIMEOUT seconds; raises LockTimeout naming the holder."""
        _ensure_run_dir(self.run_dir)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.time() + max(timeout, 0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(fd)
                    raise
                if time.time() >= deadline:
                    os.close(fd)
                    raise LockTimeout(self.path, timeout, self._holder(), self.config_dir)
                time.sleep(_LOCK_POLL_SECONDS)
        # Who holds it, for the message of a run that gives up waiting.
        holder = dict(pid=os.getpid(), what=self.what, config_dir=self.config_dir,
                      since=time.strftime('%Y-%m-%d %H:%M:%S %Z'))
        os.ftruncate(fd, 0)
        os.write(fd, to_bytes(json.dumps(holder)))
        self._fd = fd
        return self

    def release(self):
        if self._fd is not None:
            # The next holder (or a waiting run's message) must not see this run's name.
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()


class PendingReload(object):
    """The reload that changes to a configuration directory owe to the running Postfix."""

    def __init__(self, config_dir, run_dir=None):
        self.run_dir = run_dir or RUN_DIR
        self.path = os.path.join(self.run_dir, instance_name(config_dir) + '.reload-pending')

    def owed(self):
        """What the unpaid change was (a dict with ``since`` and ``what``), or None."""
        try:
            with open(self.path) as handle:
                text = handle.read()
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise
        try:
            return json.loads(text)
        except ValueError:
            # Cut short by a crash while it was written: a debt all the same.
            return dict(since='unknown', what='unknown')

    def record(self, what):
        """Write the debt down (atomically: a crash leaves the old marker or the new)."""
        _ensure_run_dir(self.run_dir)
        temp = self.path + '.new'
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, to_bytes(json.dumps(dict(since=time.strftime('%Y-%m-%d %H:%M:%S %Z'), what=what))))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temp, self.path)

    def settle(self):
        try:
            os.unlink(self.path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise


# Where Debian and source installs put postfix(1); PATH of a become shell may lack /usr/sbin.
SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin']


class PostfixError(Exception):
    def __init__(self, message, rc=None, stderr=None):
        super(PostfixError, self).__init__(message)
        self.message = message
        self.rc = rc
        self.stderr = stderr


class PostfixRunner(object):
    """The one way this collection's modules run postfix(1), for one configuration
    directory (``-c DIR``), in the C locale."""

    def __init__(self, module, config_dir):
        self.module = module
        self.config_dir = config_dir
        self.binary = module.get_bin_path('postfix', required=True, opt_dirs=SBIN_DIRS)

    def argv(self, command):
        return [self.binary, '-c', self.config_dir, command]

    def _run(self, command):
        rc, stdout, stderr = self.module.run_command(self.argv(command), environ_update=C_LOCALE_ENV)
        return rc, to_text(stdout), to_text(stderr)

    def running(self):
        """Whether the master process of this configuration directory runs."""
        rc, _stdout, _stderr = self._run('status')
        return rc == 0

    def check(self):
        """``postfix check``: raises PostfixError with its messages when it fails."""
        rc, _stdout, stderr = self._run('check')
        if rc != 0:
            raise PostfixError('postfix check failed (rc=%s): %s'
                               % (rc, '; '.join(line.strip() for line in stderr.splitlines() if line.strip())
                                  or 'no message'), rc=rc, stderr=stderr)

    def reload(self):
        rc, _stdout, stderr = self._run('reload')
        if rc != 0:
            raise PostfixError('postfix reload failed (rc=%s): %s' % (rc, stderr.strip() or 'no message'),
                               rc=rc, stderr=stderr)


def hold_config_lock(module, held, directory, holder, timeout):
    """Take the lock of a configuration directory for HOLDER (a module's name) into HELD, an
    ExitStack that releases it however the run ends; fail the module, naming who holds it,
    after waiting TIMEOUT seconds."""
    try:
        held.enter_context(ConfigLock(directory, holder).acquire(timeout))
    except LockTimeout as exc:
        module.fail_json(msg='nothing was changed: %s' % exc.message, lock=exc.path)
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot take the lock for %s: %s' % (directory, exc))


def lock_argument_spec():
    """The options of every module that takes the lock (documented by the config_lock fragment)."""
    return dict(lock_timeout=dict(type='int', default=120))
