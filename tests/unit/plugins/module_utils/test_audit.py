# -*- coding: utf-8 -*-
"""The audit's resolution, against tables given as dictionaries: one case a row."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.audit import (
    KINDS,
    Resolver,
    Settings,
    audit,
    differing_domains,
    domain_digests,
    expand_list_files,
    filter_findings,
    host_differences,
    report_lines,
)

ALIASES = 'mysql:/etc/postfix/mysql-virtual-alias-maps.cf'
IDENTITY = 'mysql:/etc/postfix/mysql-email2email.cf'
MAILBOXES = 'mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf'
DOMAINS = 'mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf'
EXTRA = 'inline:{x@example.org=other@example.org}'


class FakeTables(object):
    """The ISPmail tables over a database given as lists; counts what was asked."""

    def __init__(self, domains, mailboxes, aliases, extra=None):
        self.tables = {
            DOMAINS: dict((d, '1') for d in domains),
            MAILBOXES: dict((m, '1') for m in mailboxes),
            IDENTITY: dict((m, m) for m in mailboxes),
            EXTRA: dict(extra or {}),
        }
        joined = {}
        for source, destination in aliases:
            joined.setdefault(source, []).append(destination)
        self.tables[ALIASES] = dict((k, ','.join(v)) for k, v in joined.items())
        self.asked = []

    def ask(self, keys_by_table):
        self.asked.append(dict((t, len(k)) for t, k in keys_by_table.items()))
        out = {}
        for table, keys in keys_by_table.items():
            found = self.tables[table]
            out[table] = dict((k, found[k]) for k in keys if k in found)
        return out


def settings(**overrides):
    values = dict(alias_tables=[ALIASES, IDENTITY], mailbox_tables=[MAILBOXES],
                  mydestination=['mail.example.org', 'localhost'], virtual_mailbox_domains=[DOMAINS],
                  myorigin='mail.example.org')
    values.update(overrides)
    return Settings(**values)


def run(domains, mailboxes, aliases, extra=None, **overrides):
    tables = FakeTables(domains, mailboxes, aliases, extra)
    resolver = Resolver(settings(**overrides), tables.ask)
    return audit(resolver, domains, mailboxes, aliases), tables


def kinds(result):
    return sorted((f['kind'], f['address']) for f in result.findings)


TUTORIAL = dict(domains=['example.org'], mailboxes=['john@example.org', 'catchall@example.org'],
                aliases=[('jack@example.org', 'john@example.org'), ('@example.org', 'catchall@example.org')])

CASES = [
    # (id, database changes, settings overrides, findings expected)
    ('tutorial data is clean', {}, {}, []),
    ('without the identity map the catch-all swallows the mailboxes', {}, dict(alias_tables=[ALIASES]),
     [('catch_all_swallows_mailbox', 'john@example.org')]),
    ('an alias for a mailbox sends its mail elsewhere',
     dict(aliases=[('john@example.org', 'catchall@example.org')]), {},
     [('alias_overrides_mailbox', 'john@example.org')]),
    ('an alias that keeps a copy in the mailbox is fine',
     dict(aliases=[('john@example.org', 'john@example.org'), ('john@example.org', 'catchall@example.org')]), {},
     []),
    ('a destination that is no mailbox bounces',
     dict(domains=['example.com'],
          aliases=[('team@example.org', 'john@example.org'), ('team@example.org', 'gone@example.com')]), {},
     [('undeliverable_destination', 'team@example.org')]),
    ('a destination that is no mailbox goes to the catch-all of its domain',
     dict(aliases=[('team@example.org', 'gone@example.org')]), {}, []),
    ('a remote destination is fine', dict(aliases=[('ext@example.org', 'someone@example.net')]), {}, []),
    ('an alias loop is deferred forever',
     dict(aliases=[('a@example.org', 'b@example.org'), ('b@example.org', 'a@example.org')]), {},
     [('alias_loop', 'a@example.org'), ('alias_loop', 'b@example.org')]),
    ('an expansion larger than the limit is deferred',
     dict(aliases=[('all@example.org', 'r%d@example.net' % i) for i in range(5)]), dict(expansion_limit=3),
     [('expansion_limit', 'all@example.org')]),
    ('a mailbox in a domain that is not a mailbox domain',
     dict(mailboxes=['lost@example.com']), {},
     [('domain_not_mailbox_domain', '@example.com')]),
    ('aliases of a domain no list of the host has',
     dict(aliases=[('info@example.com', 'john@example.org')]), {},
     [('domain_not_served', '@example.com')]),
    ('a third table that answers differently depends on the order',
     dict(aliases=[('x@example.org', 'john@example.org')]),
     dict(alias_tables=[ALIASES, IDENTITY, EXTRA]),
     [('order_dependent', 'x@example.org')]),
]


@pytest.mark.parametrize('changes, overrides, expected', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_findings(changes, overrides, expected):
    data = dict((k, list(v)) for k, v in TUTORIAL.items())
    for key, value in changes.items():
        data[key] = data[key] + value
    extra = {'x@example.org': 'other@example.org'} if EXTRA in overrides.get('alias_tables', []) else None
    result, _tables = run(data['domains'], data['mailboxes'], data['aliases'], extra=extra, **overrides)
    assert kinds(result) == sorted(expected)
    for item in result.findings:
        assert item['severity'] == KINDS[item['kind']]
        assert item['outcome'] and item['why']


def test_catch_all_finding_says_what_answered_and_why():
    result, _tables = run(TUTORIAL['domains'], TUTORIAL['mailboxes'], TUTORIAL['aliases'], alias_tables=[ALIASES])
    item = result.findings[0]
    assert item['outcome'] == 'catchall@example.org (mailbox)'
    assert '%s answered @example.org (for john@example.org) with catchall@example.org' % ALIASES in item['why']
    assert 'identity map' in item['why']


def test_outcomes_of_the_tutorial():
    result, _tables = run(**TUTORIAL)
    assert result.outcomes == {
        'john@example.org': 'john@example.org (mailbox)',
        'catchall@example.org': 'catchall@example.org (mailbox)',
        'jack@example.org': 'john@example.org (mailbox)',
        '@example.org': 'catchall@example.org (mailbox)',
    }


def test_every_table_is_asked_each_key_once_in_few_batches():
    _result, tables = run(**TUTORIAL)
    # The domains, then the alias tables and the mailbox table at once: two batches for a flat
    # database (every final address is a mailbox already asked).
    assert tables.asked == [{DOMAINS: 1},
                            # 3 addresses and the catch-all @example.org; the 2 mailboxes and @example.org
                            {ALIASES: 4, IDENTITY: 4, MAILBOXES: 3}]


def test_loop_is_found_with_postfix_limits_and_named_in_the_chain():
    result, _tables = run(['example.org'], [], [('a@example.org', 'b@example.org'), ('b@example.org', 'a@example.org')])
    item = [f for f in result.findings if f['address'] == 'a@example.org'][0]
    assert 'virtual_alias_recursion_limit=1000' in item['outcome']
    assert item['why'].startswith('a@example.org -> b@example.org, b@example.org -> a@example.org')


def test_extension_is_stripped_and_propagated():
    result, _tables = run(['example.org'], ['john@example.org'], [('sales@example.org', 'john@example.org')],
                          recipient_delimiter='+')
    resolver = Resolver(settings(recipient_delimiter='+'), FakeTables(['example.org'], ['john@example.org'], [
        ('sales@example.org', 'john@example.org')]).ask)
    resolver.prepare(['sales+x@example.org'])
    finals, deferred, _hits = resolver.expand('sales+x@example.org')
    assert (finals, deferred) == (['john+x@example.org'], None)
    resolver.prepare_deliveries(finals)
    assert resolver.delivery('john+x@example.org') == ('mailbox', MAILBOXES)
    assert kinds(result) == []


def test_domain_alias_keeps_the_local_part():
    result, _tables = run(['example.org', 'example.net'], ['john@example.org'],
                          [('@example.net', '@example.org'), ('john@example.net', 'john@example.net')])
    assert result.outcomes['@example.net'] == 'any local part goes to the same local part @example.org'
    # A self alias stops the expansion: john@example.net is then no mailbox, and bounces.
    assert result.outcomes['john@example.net'] == 'john@example.net (bounced: User unknown in virtual mailbox table)'
    assert kinds(result) == [('undeliverable_destination', 'john@example.net')]
    resolver = Resolver(settings(), FakeTables(['example.org', 'example.net'], ['john@example.org'],
                                               [('@example.net', '@example.org')]).ask)
    resolver.prepare(['john@example.net'])
    assert resolver.expand('john@example.net')[:2] == (['john@example.org'], None)


def test_bare_name_goes_to_myorigin_and_is_local():
    result, _tables = run(['example.org'], [], [('abuse@example.org', 'root')])
    assert result.outcomes['abuse@example.org'] == 'root@mail.example.org (local)'
    assert kinds(result) == []


def test_mailbox_unknown_when_the_mailbox_table_does_not_know_it():
    tables = FakeTables(['example.org'], ['john@example.org'], [])
    del tables.tables[MAILBOXES]['john@example.org']
    result = audit(Resolver(settings(), tables.ask), ['example.org'], ['john@example.org'], [])
    assert kinds(result) == [('mailbox_unknown', 'john@example.org')]


def test_alias_the_tables_do_not_answer():
    tables = FakeTables(['example.org'], ['john@example.org'], [])
    result = audit(Resolver(settings(), tables.ask), ['example.org'], ['john@example.org'],
                   [('ghost@example.org', 'john@example.org')])
    assert kinds(result) == [('alias_not_answered', 'ghost@example.org')]
    assert result.outcomes['ghost@example.org'] == 'rejected at RCPT: User unknown in virtual mailbox table'


def test_domain_lists_match_as_resolve_c_does():
    # virtual_mailbox_domains is a string list: the name itself ('.example.com' matches nothing
    # below it); relay_domains is a domain list, where '.relay.test' does.
    result, _tables = run(['example.org'], ['a@sub.example.com', 'b@no.example.com', 'c@deep.example.com'],
                          [('info@x.relay.test', 'a@sub.example.com')],
                          virtual_mailbox_domains=['!no.example.com', 'no.example.com', 'sub.example.com',
                                                   '.example.com', DOMAINS],
                          relay_domains=['.relay.test'])
    assert kinds(result) == [('domain_not_mailbox_domain', '@deep.example.com'),
                             ('domain_not_mailbox_domain', '@no.example.com')]


def test_relay_domains_parent_matching_when_postfix_is_told_so():
    result, _tables = run(['example.org'], [], [('info@x.relay.test', 'someone@example.net')],
                          relay_domains=['relay.test'], relay_domains_match_subdomains=True)
    assert kinds(result) == []
    result, _tables = run(['example.org'], [], [('info@x.relay.test', 'someone@example.net')],
                          relay_domains=['relay.test'])
    assert kinds(result) == [('domain_not_served', '@x.relay.test')]


@pytest.mark.parametrize('delimiters, local, expected', [
    ('+', 'user+x', ('+x', 'user')),
    ('+', 'user+x+y', ('+x+y', 'user')),
    ('+-', 'user-x+y', ('-x+y', 'user')),
    ('+', '+user', (None, '+user')),
    ('+', 'postmaster+x', ('+x', 'postmaster')),
    ('+', 'postmaster', (None, 'postmaster')),
    ('-', 'double-bounce', (None, 'double-bounce')),
    ('-', 'owner-list', (None, 'owner-list')),
    ('-', 'list-request', (None, 'list-request')),
    ('+', 'owner-list+x', ('+x', 'owner-list')),
    ('', 'user+x', (None, 'user+x')),
])
def test_extension_split_as_split_addr_c(delimiters, local, expected):
    resolver = Resolver(settings(recipient_delimiter=delimiters), None)
    assert resolver._extension(local) == expected


def test_a_catch_all_propagates_no_extension_and_a_domain_alias_keeps_it():
    tables = FakeTables(['example.org', 'example.net'], ['catchall@example.org', 'jane+x@example.net'],
                        [('@example.org', 'catchall@example.org'), ('@example.com', '@example.net')])
    resolver = Resolver(settings(recipient_delimiter='+'), tables.ask)
    resolver.prepare(['jane+x@example.org', 'jane+x@example.com'])
    assert resolver.expand('jane+x@example.org')[:2] == (['catchall@example.org'], None)
    assert resolver.expand('jane+x@example.com')[:2] == (['jane+x@example.net'], None)


def test_a_bare_local_part_is_asked_for_myorigin():
    tables = FakeTables(['example.org'], ['john@example.org'], [('abuse', 'john@example.org')])
    resolver = Resolver(settings(myorigin='mail.example.org', mydestination=[]), tables.ask)
    resolver.prepare(['abuse@mail.example.org'])
    assert resolver.expand('abuse@mail.example.org')[:2] == (['john@example.org'], None)


def test_chains_deeper_than_a_small_recursion_limit():
    # Every address an alias adds starts a count of its own (cleanup_map1n.c): the chain is
    # resolved to its end even with virtual_alias_recursion_limit = 2.
    aliases = [('a@example.org', 'x@example.net'), ('a@example.org', 'b@example.org'),
               ('b@example.org', 'y@example.net'), ('b@example.org', 'c@example.org'),
               ('c@example.org', 'z@example.net'), ('c@example.org', 'e@example.net')]
    result, _tables = run(['example.org'], [], aliases, recursion_limit=2)
    assert result.outcomes['a@example.org'] == ('x@example.net (remote), y@example.net (remote), '
                                                'z@example.net (remote), e@example.net (remote)')


def test_gate_report_and_hosts():
    result, _tables = run(TUTORIAL['domains'], TUTORIAL['mailboxes'],
                          TUTORIAL['aliases'] + [('john@example.org', 'catchall@example.org')])
    assert filter_findings(result.findings, 'error') == []
    assert len(filter_findings(result.findings, 'warning')) == 1
    assert filter_findings(result.findings, 'never') == []
    lines = report_lines(result.findings)
    assert lines[0].split() == ['severity', 'kind', 'address', 'what', 'Postfix', 'does', 'why']
    assert 'alias_overrides_mailbox' in lines[1]
    assert report_lines([]) == []
    clean, _tables = run(**TUTORIAL)
    digests = {'mail1': domain_digests(clean.outcomes), 'mail2': domain_digests(result.outcomes)}
    assert differing_domains(digests) == ['example.org']
    assert differing_domains({'mail1': digests['mail1'], 'mail2': dict(digests['mail1'])}) == []
    found = host_differences({'mail1': clean.outcomes, 'mail2': result.outcomes})
    # jack@ is an alias of john@, so it differs too.
    assert [(f['kind'], f['address']) for f in found] == [('differs_between_hosts', 'jack@example.org'),
                                                          ('differs_between_hosts', 'john@example.org')]
    assert found[1]['outcome'] == ('mail1: john@example.org (mailbox); mail2: catchall@example.org (mailbox)')


def test_report_is_cut_per_kind():
    findings = [dict(kind='alias_loop', severity='error', address='a%d@x' % i, outcome='o', why='w') for i in range(5)]
    lines = report_lines(findings, limit=2)
    assert len(lines) == 1 + 2 + 1
    assert lines[-1] == '... and 3 more alias_loop finding(s), in findings'


def test_list_files_are_read_and_their_negation_kept():
    files = {'/etc/postfix/domains': '# ours\nexample.org example.net\nexample.com\n'}
    assert expand_list_files(['a.test', '!/etc/postfix/domains', DOMAINS], files.get) == [
        'a.test', '!example.org', '!example.net', '!example.com', DOMAINS]
    assert expand_list_files(['/etc/postfix/domains'], files.get) == ['example.org', 'example.net', 'example.com']


def test_a_domain_of_the_database_the_host_does_not_serve():
    tables = FakeTables(['example.org'], ['john@example.org'], [])
    result = audit(Resolver(settings(), tables.ask), ['example.org', 'Gone.test'], ['john@example.org'], [])
    assert kinds(result) == [('domain_not_served', '@gone.test')]
