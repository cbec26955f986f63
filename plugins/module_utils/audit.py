# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Postfix does with every address of the mail database, as the tables of a host answer.

The rules followed here are Postfix's own (Postfix 3.7 and 3.10 sources):

- virtual(5) and mail_addr_find(3): an address is looked up as ``user+ext@domain``, then
  ``user@domain`` (extension removed, when recipient_delimiter is set), then ``user`` alone
  (only when the domain is local, mydestination), then ``@domain``. For each pattern every
  table of the parameter is asked before the next pattern; the first table that answers wins.
- mail_addr_map(3): an answer that starts with ``@`` keeps the original local part
  (``@example.org`` -> ``@example.net`` renames the domain); an unmatched extension is
  appended to every result when propagate_unmatched_extensions has ``virtual``; a result
  without ``@`` gets ``@$myorigin``.
- cleanup_map1n.c: the expansion is breadth first, in place. An address that expands into
  itself is not expanded again; otherwise each slot is looked up again and again up to
  virtual_alias_recursion_limit (a loop ends there), and the list may not grow beyond
  virtual_alias_expansion_limit, nor a result exceed virtual_alias_address_length_limit.
  Any of the three defers the message ("4.6.0 Alias expansion error"), forever.
- trivial-rewrite (resolve.c): the domain of each final address is, in this order, local
  (mydestination), a virtual alias domain (mail that was not aliased bounces), a virtual
  mailbox domain (delivered when virtual_mailbox_maps knows the address, else bounced), a
  relay domain, or remote.

Nothing here asks a table: the caller (module mail_audit) gives an ``ask`` function, which is
postmap on the host, and unit tests a dictionary. Every key is asked of every table of a
parameter, not only until the first hit, so that answers that depend on the order of the
tables can be reported.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re
import time

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import split_list
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postmap import is_table_item

SEVERITIES = ('warning', 'error')
FAIL_ON = ('error', 'warning', 'never')

# The finding kinds, their severity and what each means (the module's documentation
# lists the same).
KINDS = {
    'catch_all_swallows_mailbox': 'error',
    'alias_overrides_mailbox': 'warning',
    'mailbox_unknown': 'error',
    'undeliverable_destination': 'error',
    'alias_not_answered': 'error',
    'alias_loop': 'error',
    'expansion_limit': 'error',
    'order_dependent': 'warning',
    'domain_not_mailbox_domain': 'error',
    'domain_not_served': 'warning',
    'table_not_proxied': 'error',
    'differs_between_hosts': 'error',
}

LOCAL, VIRTUAL_ALIAS, VIRTUAL_MAILBOX, RELAY, REMOTE = 'local', 'virtual_alias', 'virtual_mailbox', 'relay', 'remote'

# Local parts that Postfix never splits at the recipient delimiter (split_addr.c).
_UNSPLIT_LOCAL_PARTS = ('postmaster', 'mailer-daemon')


def fold(address):
    """Postfix folds lookup keys to lower case (mail_addr_find, DICT_FLAG_FOLD_FIX)."""
    return address.strip().lower()


def split_address(address):
    """('user', 'example.org') for 'user@example.org'; the domain is '' without '@'."""
    local, at, domain = address.rpartition('@')
    if not at:
        return address, ''
    return local, domain


def severity_rank(severity):
    return SEVERITIES.index(severity) + 1 if severity in SEVERITIES else 0


class Settings(object):
    """The main.cf values the resolution depends on, as ``postconf -x -h`` prints them,
    already split into lists (postconf.split_list)."""

    def __init__(self, alias_tables, mailbox_tables, mydestination=(), virtual_alias_domains=(),
                 virtual_mailbox_domains=(), relay_domains=(), myorigin='localhost', recipient_delimiter='',
                 propagate_virtual=True, recursion_limit=1000, expansion_limit=1000, address_length_limit=1000,
                 relay_domains_match_subdomains=False, double_bounce_sender='double-bounce', proxy_read_maps=None):
        self.alias_tables = list(alias_tables)
        self.mailbox_tables = list(mailbox_tables)
        self.domain_lists = {
            LOCAL: list(mydestination),
            VIRTUAL_ALIAS: list(virtual_alias_domains),
            VIRTUAL_MAILBOX: list(virtual_mailbox_domains),
            RELAY: list(relay_domains),
        }
        # resolve.c matches mydestination and the virtual domain lists as string lists (the
        # name itself); relay_domains is a domain list: '.example.org' matches subdomains, and
        # 'example.org' too when parent_domain_matches_subdomains names relay_domains.
        self.subdomain_patterns = {LOCAL: False, VIRTUAL_ALIAS: False, VIRTUAL_MAILBOX: False, RELAY: True}
        self.parent_matches = {RELAY: bool(relay_domains_match_subdomains)}
        self.double_bounce_sender = fold(double_bounce_sender)
        self.proxy_read_maps = proxy_read_maps
        self.myorigin = fold(myorigin)
        self.recipient_delimiter = recipient_delimiter or ''
        self.propagate_virtual = propagate_virtual
        self.recursion_limit = int(recursion_limit)
        self.expansion_limit = int(expansion_limit)
        self.address_length_limit = int(address_length_limit)

    def domain_tables(self):
        """Every table a domain list names (with ``!`` removed)."""
        tables = []
        for items in self.domain_lists.values():
            for item in items:
                item = item[1:] if item.startswith('!') else item
                if is_table_item(item) and item not in tables:
                    tables.append(item)
        return tables


def expand_list_files(items, read):
    """A /file/name item of a match list stands for the patterns in that file (match_list(3)); a
    '!' in front of it negates each of them. READ(path) returns the file's text."""
    out = []
    for item in items:
        negate = item.startswith('!')
        path = item[1:] if negate else item
        if not path.startswith('/'):
            out.append(item)
            continue
        # Lines end at '\n' only, as Postfix reads them.
        for line in read(path).split('\n'):
            if not line.strip().startswith('#'):
                out.extend(('!' if negate else '') + pattern for pattern in split_list(line))
    return out


def unproxied_tables(tables, proxy_read_maps):
    """The proxy: tables that proxymap refuses: those proxy_read_maps (with $name expanded, split
    as Postfix splits it) does not list. Every lookup of such a table fails, and mail is deferred."""
    approved = set(proxy_read_maps)
    return [table for table in tables if table.startswith('proxy:') and table not in approved]


class Hit(object):
    """One answered lookup: the pattern that answered, the first table that answered it and
    its value, every (table, value) that answered the same pattern, and the extension that
    was removed to find it (or None)."""

    __slots__ = ('pattern', 'table', 'value', 'answers', 'extension')

    def __init__(self, pattern, answers, extension):
        self.pattern = pattern
        self.table, self.value = answers[0]
        self.answers = answers
        self.extension = extension


_SEPARATORS_RE = re.compile(r'[\s,]+')


def split_values(value):
    """A table's answer as addresses: Postfix joins rows with commas; blanks separate too."""
    if value and ',' not in value and ' ' not in value and '\t' not in value:
        return [value]
    return [item for item in _SEPARATORS_RE.split(value or '') if item]


class Resolver(object):
    """Asks the tables what it needs (in batches, through ask) and resolves addresses.

    ask(keys_by_table) takes {table: [keys]} and returns {table: {key: value}} for the keys
    found. Each key is asked of each table once.
    """

    def __init__(self, settings, ask):
        self.settings = settings
        self._ask = ask
        self.known = {}
        self.lookups = 0
        self.ask_seconds = 0.0
        self._domain_class = {}
        self._patterns = {}
        self._deliveries = {}
        self._steps = {}

    # ------------------------------------------------------------- asking
    def ask(self, keys_by_table):
        wanted = {}
        for table, keys in keys_by_table.items():
            known = self.known.setdefault(table, {})
            missing = [key for key in set(keys) if key not in known]
            if missing:
                wanted[table] = missing
        if not wanted:
            return
        started = time.monotonic()
        answers = self._ask(wanted)
        self.ask_seconds += time.monotonic() - started
        for table, keys in wanted.items():
            found = answers.get(table, {})
            known = self.known[table]
            for key in keys:
                known[key] = found.get(key)
            self.lookups += len(keys)

    def answer(self, table, key):
        return self.known[table][key]

    # ------------------------------------------------------------- domains
    def _list_matches(self, address_class, domain):
        """match_list(3): the first item that matches decides; '!' negates it."""
        subdomains = self.settings.subdomain_patterns[address_class]
        parent = self.settings.parent_matches.get(address_class, False)
        for item in self.settings.domain_lists[address_class]:
            negate = item.startswith('!')
            pattern = item[1:] if negate else item
            if is_table_item(pattern):
                hit = self.answer(pattern, domain) is not None
            else:
                pattern = fold(pattern)
                hit = (domain == pattern
                       or (subdomains and pattern.startswith('.') and domain.endswith(pattern))
                       or (parent and domain.endswith('.' + pattern)))
            if hit:
                return not negate
        return False

    def classify_domains(self, domains):
        domains = [d for d in set(domains) if d not in self._domain_class]
        if not domains:
            return
        self.ask(dict((table, domains) for table in self.settings.domain_tables()))
        for domain in domains:
            for address_class in (LOCAL, VIRTUAL_ALIAS, VIRTUAL_MAILBOX, RELAY):
                if domain and self._list_matches(address_class, domain):
                    self._domain_class[domain] = address_class
                    break
            else:
                self._domain_class[domain] = REMOTE if domain else LOCAL

    def domain_class(self, domain):
        return self._domain_class[domain]

    # ------------------------------------------------------------- one lookup
    def _extension(self, local):
        """(extension, local part without it) as split_addr.c splits: at the first delimiter,
        never at the start, never for postmaster, mailer-daemon and the double-bounce sender,
        nor (when '-' is a delimiter) for owner-* and *-request."""
        delimiters = self.settings.recipient_delimiter
        if not delimiters or local in _UNSPLIT_LOCAL_PARTS or local == self.settings.double_bounce_sender:
            return None, local
        if '-' in delimiters and (local.startswith('owner-') or local.endswith('-request')):
            return None, local
        for index, char in enumerate(local):
            if char in delimiters:
                if index == 0:
                    return None, local
                return local[index:], local[:index]
        return None, local

    def patterns(self, address, for_mailbox=False):
        """[(pattern, extension removed or None)] in Postfix's order for ADDRESS (folded)."""
        cached = self._patterns.get((address, for_mailbox))
        if cached is None:
            cached = self._patterns[(address, for_mailbox)] = self._make_patterns(address, for_mailbox)
        return cached

    def _make_patterns(self, address, for_mailbox):
        local, domain = split_address(address)
        if (not self.settings.recipient_delimiter and domain and (
                for_mailbox or (self._domain_class[domain] != LOCAL and domain != self.settings.myorigin))):
            # The common case, without an extension to split or a local part to ask.
            return [(address, None), ('@' + domain, None)] if local else [(address, None)]
        extension, base = self._extension(local)
        out = [(address, None)]
        if extension is not None:
            out.append(('%s@%s' % (base, domain) if domain else base, extension))
        if not for_mailbox and domain and (self.domain_class(domain) == LOCAL or domain == self.settings.myorigin):
            out.append((local, None))
            if extension is not None:
                out.append((base, extension))
        if domain:
            # mail_addr_find: a match of @domain removes no extension, so none is propagated.
            out.append(('@' + domain, None))
        seen = set()
        return [(p, e) for p, e in out if p and not (p in seen or seen.add(p))]

    def find(self, tables, address, for_mailbox=False):
        """The Hit that Postfix's first match gives for ADDRESS in TABLES, or None."""
        known = self.known
        for pattern, extension in self.patterns(address, for_mailbox):
            answers = []
            for table in tables:
                value = known[table][pattern]
                if value is not None:
                    answers.append((table, value))
            if answers:
                return Hit(pattern, answers, extension)
        return None

    def alias_step(self, address):
        """(Hit or None, result addresses) of one virtual_alias_maps lookup of ADDRESS, remembered:
        the answers it depends on do not change once asked."""
        step = self._steps.get(address)
        if step is None:
            hit = self.find(self.settings.alias_tables, address)
            step = self._steps[address] = (hit, self.results(address, hit) if hit is not None else [])
        return step

    def results(self, address, hit, value=None):
        """The addresses a hit's value stands for (mail_addr_map)."""
        value = hit.value if value is None else value
        if hit.extension is None and '@' in value and value[0] != '@' and not _SEPARATORS_RE.search(value):
            # The common case: one full address, nothing to add to it.
            return [value.lower()]
        local, _domain = split_address(address)
        extension, base = self._extension(local)
        if hit.extension is None:
            extension = None
        if value.startswith('@'):
            value = (base if extension is not None else local) + value
        out = []
        for item in split_values(value):
            if '@' not in item:
                item = '%s@%s' % (item, self.settings.myorigin)
            if extension is not None and self.settings.propagate_virtual:
                item_local, item_domain = split_address(item)
                item = '%s%s@%s' % (item_local, extension, item_domain)
            out.append(fold(item))
        return out

    # ------------------------------------------------------------- asking ahead
    def _pattern_keys(self, tables, addresses, for_mailbox=False):
        patterns = self.patterns
        keys = set(pattern for address in addresses for pattern, _ext in patterns(address, for_mailbox))
        return dict((table, keys) for table in tables)

    def _mailbox_keys(self, addresses):
        return self._pattern_keys(self.settings.mailbox_tables, [
            a for a in set(addresses) if self.domain_class(split_address(a)[1]) == VIRTUAL_MAILBOX], for_mailbox=True)

    def prepare(self, addresses, mailboxes=()):
        """Ask the alias tables and the domain lists everything that expanding ADDRESSES will
        need, in as few batches as the expansion is deep: every address reachable through the
        alias tables is asked in the round after the one that found it. The mailbox tables are
        asked for MAILBOXES in the first batch, beside the alias tables."""
        seen = set()
        pending = set(fold(a) for a in addresses)
        mailboxes = set(fold(a) for a in mailboxes)
        self.classify_domains(split_address(a)[1] for a in mailboxes)
        # Ends: every round asks only addresses never seen, and tables hold finitely many.
        while pending:
            self.classify_domains(split_address(a)[1] for a in pending)
            keys = self._pattern_keys(self.settings.alias_tables, pending)
            if mailboxes:
                keys.update(self._mailbox_keys(mailboxes))
                mailboxes = ()
            self.ask(keys)
            found = set()
            for address in pending:
                found.update(self.alias_step(address)[1])
            seen |= pending
            found = set(a for a in found if len(a) <= self.settings.address_length_limit)
            pending = found - seen

    def prepare_deliveries(self, addresses):
        """Ask the mailbox tables for the final addresses of virtual mailbox domains (those not
        asked yet)."""
        self.ask(self._mailbox_keys(addresses))

    # ------------------------------------------------------------- the expansion
    def expand(self, address):
        """cleanup_map1n.c for one address: (final addresses, deferral reason or None, hits),
        hits being [(address looked up, Hit)] in the order Postfix made them."""
        settings = self.settings
        argv = [fold(address)]
        expanded_into_itself = set()
        hits = []
        arg = 0
        while arg < len(argv):
            if len(argv) > settings.expansion_limit:
                return [address], 'expansion', hits
            count = 0
            while True:
                if argv[arg] in expanded_into_itself:
                    break
                if count >= settings.recursion_limit:
                    return [address], 'nesting', hits
                current = argv[arg]
                hit, results = self.alias_step(current)
                if hit is None:
                    break
                hits.append((current, hit))
                for index, result in enumerate(results):
                    if len(result) > settings.address_length_limit:
                        return [address], 'length', hits
                    if index == 0:
                        argv[arg] = result
                    else:
                        argv.append(result)
                    if result == current:
                        expanded_into_itself.add(current)
                count += 1
            arg += 1
        finals = []
        for final in argv:
            if final not in finals:
                finals.append(final)
        return finals, None, hits

    def delivery(self, address):
        """(how, detail) for a final address: mailbox, local, relay, remote or bounced."""
        known = self._deliveries.get(address)
        if known is None:
            known = self._deliveries[address] = self._delivery(address)
        return known

    def _delivery(self, address):
        domain = split_address(address)[1]
        address_class = self.domain_class(domain)
        if address_class == VIRTUAL_MAILBOX:
            hit = self.find(self.settings.mailbox_tables, address, for_mailbox=True)
            if hit is not None:
                return 'mailbox', hit.table
            return 'bounced', 'User unknown in virtual mailbox table'
        if address_class == VIRTUAL_ALIAS:
            return 'bounced', 'User unknown in virtual alias table'
        return address_class, None


# ---------------------------------------------------------------- findings

def finding(kind, address, outcome, why):
    return dict(kind=kind, severity=KINDS[kind], address=address, outcome=outcome, why=why)


def short(value, limit=3):
    """A table's answer fit for a report line: a long list cut after LIMIT addresses."""
    items = split_values(value)
    if len(items) <= limit:
        return value
    return '%s, ... (%d addresses)' % (', '.join(items[:limit]), len(items))


def describe_hit(looked_up, hit):
    return '%s answered %s with %s' % (hit.table, hit.pattern if hit.pattern == looked_up else
                                       '%s (for %s)' % (hit.pattern, looked_up), short(hit.value))


def describe_deliveries(resolver, finals):
    parts = []
    for final in finals:
        how, detail = resolver.delivery(final)
        if how == 'bounced':
            parts.append('%s (bounced: %s)' % (final, detail))
        else:
            parts.append('%s (%s)' % (final, how))
    return ', '.join(parts)


DEFERRALS = {
    'nesting': 'deferred forever: 4.6.0 Alias expansion error (more than virtual_alias_recursion_limit=%d '
               'nested lookups, an alias loop)',
    'expansion': 'deferred forever: 4.6.0 Alias expansion error (more than virtual_alias_expansion_limit=%d '
                 'addresses)',
    'length': 'deferred forever: 4.6.0 Alias expansion error (a result longer than '
              'virtual_alias_address_length_limit=%d)',
}


def _limit(settings, reason):
    return {'nesting': settings.recursion_limit, 'expansion': settings.expansion_limit,
            'length': settings.address_length_limit}[reason]


def _chain(hits, limit=4):
    steps = ['%s -> %s' % (looked_up, short(hit.value)) for looked_up, hit in hits[:limit]]
    if len(hits) > limit:
        steps.append('...')
    return ', '.join(steps)


class AuditResult(object):
    def __init__(self):
        self.findings = []
        self.outcomes = {}


def _proxy_findings(settings, result):
    if settings.proxy_read_maps is None:
        return
    tables = settings.alias_tables + settings.mailbox_tables + settings.domain_tables()
    for table in unproxied_tables(tables, settings.proxy_read_maps):
        result.findings.append(finding(
            'table_not_proxied', table, 'every lookup in it fails: mail is deferred (451 4.3.0 Temporary lookup '
            'failure) and daemons that ask it die', 'proxy_read_maps does not list %s, so proxymap refuses it' % table))


def _domain_findings(resolver, domains, starts, mailbox_set, result):
    """Domains first: one finding per domain rather than one per address in it. The domains
    this host does not serve as the database means."""
    settings = resolver.settings
    by_domain = {}
    for address in starts:
        by_domain.setdefault(split_address(address)[1], []).append(address)
    unserved = set()
    listed = sorted(set(fold(d) for d in domains) - set(by_domain))
    resolver.classify_domains(listed)
    for domain in listed:
        if resolver.domain_class(domain) == REMOTE:
            result.findings.append(finding(
                'domain_not_served', '@' + domain,
                'mail for it is refused (Relay access denied): the database has the domain, this host does not',
                'no domain list of this host (mydestination, virtual_alias_domains, virtual_mailbox_domains, '
                'relay_domains) has %s' % domain))
    for domain in sorted(by_domain):
        address_class = resolver.domain_class(domain)
        boxes = [a for a in by_domain[domain] if a in mailbox_set]
        if boxes and address_class != VIRTUAL_MAILBOX:
            unserved.add(domain)
            result.findings.append(finding(
                'domain_not_mailbox_domain', '@' + domain,
                'mail for its %d mailbox(es) is %s' % (len(boxes), {
                    LOCAL: 'delivered by local(8) instead (the domain is in mydestination)',
                    VIRTUAL_ALIAS: 'bounced unless aliased (the domain is a virtual alias domain)',
                    RELAY: 'relayed elsewhere (the domain is in relay_domains)',
                    REMOTE: 'refused (Relay access denied) or sent to the domain\'s MX',
                }[address_class]),
                'virtual_mailbox_domains (%s) does not list %s' % (
                    ', '.join(settings.domain_lists[VIRTUAL_MAILBOX]) or 'empty', domain)))
        elif not boxes and address_class == REMOTE:
            unserved.add(domain)
            result.findings.append(finding(
                'domain_not_served', '@' + domain,
                'its %d alias(es) apply only to mail this host relays: mail for the domain is refused '
                '(Relay access denied)' % len(by_domain[domain]),
                'no domain list of this host (mydestination, virtual_alias_domains, virtual_mailbox_domains, '
                'relay_domains) has %s' % domain))
    return unserved


def _mailbox_or_alias_findings(resolver, address, first, finals, outcome, mailbox_set, result):
    """A mailbox an alias takes, a mailbox no map knows, an alias source no table answers;
    whether one was reported."""
    settings = resolver.settings
    if address in mailbox_set:
        if address not in finals:
            kind = 'catch_all_swallows_mailbox' if first.pattern.startswith('@') else 'alias_overrides_mailbox'
            why = describe_hit(address, first)
            if kind == 'catch_all_swallows_mailbox':
                why += ('; no table of virtual_alias_maps answers %s itself (the identity map, '
                        'email2email, is missing or does not know it)' % address)
            result.findings.append(finding(kind, address, outcome, why))
            return True
        if resolver.delivery(address)[0] == 'bounced':
            result.findings.append(finding(
                'mailbox_unknown', address, outcome,
                'no table of virtual_mailbox_maps (%s) answers %s' % (', '.join(settings.mailbox_tables), address)))
            return True
        return False
    if first is None or (first.pattern != address and not address.startswith('@')):
        # An alias source that the alias tables do not answer: the alias query or table is broken.
        why = ('no table of virtual_alias_maps answers %s' % address if first is None
               else 'virtual_alias_maps answers only %s' % describe_hit(address, first))
        result.findings.append(finding('alias_not_answered', address, outcome, why))
        return True
    return False


def _order_dependent_finding(resolver, address, first, outcome, result):
    merged = set()
    for _table, value in first.answers:
        merged.update(resolver.results(address, first, value))
    if set(resolver.results(address, first)) != merged:
        result.findings.append(finding(
            'order_dependent', address, outcome,
            'for %s, %s; the other tables answer %s, which Postfix never uses: only the first '
            'table that answers counts (merge them with unionmap:{...} or a SQL UNION)' % (
                first.pattern, describe_hit(first.pattern, first),
                '; '.join('%s: %s' % (table, short(value)) for table, value in first.answers[1:]))))


def _address_findings(resolver, address, expansion, mailbox_set, unserved, result):
    """The outcome of one address, and its findings."""
    finals, deferred, hits = expansion
    if deferred:
        outcome = DEFERRALS[deferred] % _limit(resolver.settings, deferred)
        result.outcomes[address] = outcome
        result.findings.append(finding(
            'alias_loop' if deferred == 'nesting' else 'expansion_limit', address, outcome, _chain(hits)))
        return
    first = hits[0][1] if hits else None
    if address.startswith('@') and first is not None and first.value.startswith('@'):
        # A domain alias (@example.net -> @example.org): every local part keeps its name in the
        # other domain; its addresses are audited where they are used, not as '@example.org'.
        result.outcomes[address] = 'any local part goes to the same local part %s' % first.value
        return
    rejected = (first is None and len(finals) == 1 and resolver.delivery(finals[0])[0] == 'bounced')
    if rejected:
        outcome = 'rejected at RCPT: %s' % resolver.delivery(finals[0])[1]
    else:
        outcome = describe_deliveries(resolver, finals)
    result.outcomes[address] = outcome
    if split_address(address)[1] in unserved:
        return
    reported = _mailbox_or_alias_findings(resolver, address, first, finals, outcome, mailbox_set, result)
    bounced = [f for f in finals if resolver.delivery(f)[0] == 'bounced' and not (reported and f == address)]
    if bounced and not rejected:
        result.findings.append(finding(
            'undeliverable_destination', address, outcome,
            '%s: %s neither a mailbox nor in a domain mail can go to' % (
                _chain(hits), ', '.join(bounced) + (' is' if len(bounced) == 1 else ' are'))))
    if first is not None and len(first.answers) > 1 and not reported:
        _order_dependent_finding(resolver, address, first, outcome, result)


def audit(resolver, domains, mailboxes, aliases):
    """Resolve every mailbox and alias source and return an AuditResult: findings, and the
    outcome of every address (for comparing hosts). The resolver's tables are asked here."""
    mailbox_set = set(fold(m) for m in mailboxes)
    starts = []
    seen = set()
    for address in [fold(m) for m in mailboxes] + [fold(source) for source, _destination in aliases]:
        if address not in seen:
            seen.add(address)
            starts.append(address)
    resolver.prepare(starts, mailboxes=mailbox_set)
    expansions = dict((address, resolver.expand(address)) for address in starts)
    finals_to_deliver = set(mailbox_set)
    for finals, deferred, _hits in expansions.values():
        if not deferred:
            finals_to_deliver.update(finals)
    resolver.prepare_deliveries(finals_to_deliver)
    result = AuditResult()
    _proxy_findings(resolver.settings, result)
    unserved = _domain_findings(resolver, domains, starts, mailbox_set, result)
    for address in starts:
        _address_findings(resolver, address, expansions[address], mailbox_set, unserved, result)
    return result


# ---------------------------------------------------------------- reporting

def filter_findings(findings, fail_on):
    """The findings at or above fail_on (none for 'never')."""
    if fail_on == 'never':
        return []
    rank = severity_rank(fail_on)
    return [f for f in findings if severity_rank(f['severity']) >= rank]


def count_by(findings, key):
    counts = {}
    for item in findings:
        counts[item[key]] = counts.get(item[key], 0) + 1
    return counts


def sort_findings(findings):
    return sorted(findings, key=lambda f: (-severity_rank(f['severity']), f['kind'], f['address'], f.get('host', '')))


def report_lines(findings, limit=50, hosts=False):
    """Findings as a table, at most LIMIT rows of each kind; empty list when none."""
    if not findings:
        return []
    rows = []
    shown = {}
    hidden = {}
    for item in sort_findings(findings):
        shown[item['kind']] = shown.get(item['kind'], 0) + 1
        if shown[item['kind']] > limit:
            hidden[item['kind']] = hidden.get(item['kind'], 0) + 1
            continue
        row = [item['severity'], item['kind'], item['address'], item['outcome'], item['why']]
        if hosts:
            row.insert(0, item.get('host', ''))
        rows.append(row)
    header = ['severity', 'kind', 'address', 'what Postfix does', 'why']
    if hosts:
        header.insert(0, 'host')
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header) - 1)]
    lines = []
    for row in [header] + rows:
        cells = [str(cell).ljust(widths[i]) if i < len(widths) else str(cell) for i, cell in enumerate(row)]
        lines.append('  '.join(cells).rstrip())
    for kind in sorted(hidden):
        lines.append('... and %d more %s finding(s), in findings' % (hidden[kind], kind))
    return lines


def domain_digests(outcomes):
    """{domain: sha256 of the sorted "address TAB outcome" lines of its addresses}."""
    lines = {}
    for address, outcome in outcomes.items():
        lines.setdefault(split_address(address)[1], []).append('%s\t%s\n' % (address, outcome))
    return dict((domain, hashlib.sha256(''.join(sorted(items)).encode('utf-8')).hexdigest())
                for domain, items in lines.items())


def differing_domains(digests_by_host):
    """The domains whose digests are not the same on every host (missing counts as different)."""
    domains = set()
    for digests in digests_by_host.values():
        domains.update(digests)
    out = []
    for domain in sorted(domains):
        values = set(digests.get(domain) for digests in digests_by_host.values())
        if len(values) > 1:
            out.append(domain)
    return out


def host_differences(outcomes_by_host):
    """differs_between_hosts findings from {host: {address: outcome}} of the differing domains."""
    hosts = sorted(outcomes_by_host)
    addresses = set()
    for outcomes in outcomes_by_host.values():
        addresses.update(outcomes)
    findings = []
    for address in sorted(addresses):
        answers = [(host, outcomes_by_host[host].get(address)) for host in hosts]
        if len(set(answer for _host, answer in answers)) > 1:
            if any(answer is None for _host, answer in answers):
                why = ('the hosts read different databases: the address is in the database of some only '
                       '(a replica behind, or another database host in their client files)')
            else:
                why = ('the hosts\' live tables or main.cf answer differently (compare their client files and '
                       'postconf -n)')
            findings.append(finding(
                'differs_between_hosts', address,
                '; '.join('%s: %s' % (host, answer if answer is not None else 'not in its database')
                          for host, answer in answers), why))
    return findings
