#!/usr/bin/perl
# Verify the message on stdin with Mail::DKIM; the key records, given as
# arguments "selector=record" (or one bare record for every selector), are
# served by a replaced Mail::DKIM::DNS::query, so no DNS.
# Exit 0 if there is at least one rsa-sha256 signature (with d= $DKIM_D
# if set) and all of them pass.
use strict;
use warnings;
use Net::DNS;
use Mail::DKIM::Verifier;
@ARGV or die "usage: maildkim-verify.pl [selector=]record...\n";
my %rec;
for (@ARGV) {
	if (/^([A-Za-z0-9_.-]+)=(v=DKIM1.*)$/s) { $rec{$1} = $2 } else { $rec{''} = $_ }
}
{
	no warnings 'redefine';
	*Mail::DKIM::DNS::query = sub {
		my ($name, $type) = @_;
		my ($sel) = $name =~ /^([^.]+)\./;
		my $rec = $rec{$sel} // $rec{''} // return ();
		return (Net::DNS::RR->new(name => $name, type => 'TXT',
			txtdata => [ $rec =~ /(.{1,255})/gs ]));
	};
}
binmode STDIN;
local $/;
my $m = <STDIN>;
my $v = Mail::DKIM::Verifier->new;
$v->PRINT($m);
$v->CLOSE;
my $want_d = $ENV{DKIM_D};
my @rsa = grep { ($_->algorithm // '') eq 'rsa-sha256' &&
	(!$want_d || ($_->domain // '') eq $want_d) } $v->signatures;
for my $s ($v->signatures) {
	printf "Mail::DKIM: %s %s %s\n", $s->algorithm // '?', $s->result, $s->result_detail // '';
}
exit((@rsa && !grep { $_->result ne 'pass' } @rsa) ? 0 : 1);
