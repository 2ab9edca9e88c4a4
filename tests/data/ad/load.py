#!/usr/bin/python3
# load.py - the test directory of scripts/test-samba-ad, added offline (server stopped)
# through Samba's own python SamDB: about 10x faster than ldapadd. Only Debian's
# /usr/bin/python3 has the samba modules.
#
#   load.py PRIVATE_DIR SMB_CONF USERS
#
# What it adds (tests/integration/ad_*.sh rely on it):
#   OU=People, OU=Staff, OU=Services
#   USERS users uNNNN in OU=People (NNNN from 0001): mail uNNNN@example.test, proxyAddresses
#     SMTP:uNNNN@example.test, smtp:uNNNN.alias@example.test, X500:/o=Example/.../cn=uNNNN,
#     SIP:uNNNN.sip@example.test; userAccountControl 512 (enabled)
#   disabled1  mail disabled1@example.test, smtp:disabled1.old@example.test, uAC 514
#   proxyonly  no mail, proxyAddresses SMTP:proxyonly@example.test only
#   nomail1    no mail, no proxyAddresses (not a recipient)
#   CN=Sales (group)   mail sales@example.test, smtp:sales.team@example.test
#   CN=Partner (contact) mail partner@partner.example
#   rcptdir    in OU=Services: the service account (a plain user, password Rcptd1r!Test),
#              granted List Contents + Read Property on CN=Deleted Objects, inherited by the
#              tombstones in it (on Windows: dsacls "CN=Deleted Objects,DC=..." /G
#              DOMAIN\rcptdir:LCRP): an incremental sync finds deletions there
import sys

import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.dcerpc import security
from samba.ndr import ndr_unpack
from samba.samdb import SamDB
from samba.sd_utils import SDUtils

private, smbconf, nusers = sys.argv[1], sys.argv[2], int(sys.argv[3])
lp = LoadParm()
lp.load(smbconf)
db = SamDB(url=private + "/sam.ldb", session_info=system_session(), lp=lp)
base = str(db.domain_dn())


def add(dn, **attrs):
    m = {"dn": dn}
    m.update(attrs)
    db.add(m)


def user(cn, ou="People", uac="512", **attrs):
    add("CN=%s,OU=%s,%s" % (cn, ou, base), objectClass="user", sAMAccountName=cn,
        userAccountControl=uac, **attrs)


db.transaction_start()
for ou in ("People", "Staff", "Services"):
    add("OU=%s,%s" % (ou, base), objectClass="organizationalUnit")
for i in range(1, nusers + 1):
    u = "u%04d" % i
    user(u, mail="%s@example.test" % u,
         proxyAddresses=["SMTP:%s@example.test" % u, "smtp:%s.alias@example.test" % u,
                         "X500:/o=Example/ou=Exchange/cn=Recipients/cn=%s" % u,
                         "SIP:%s.sip@example.test" % u])
user("disabled1", uac="514", mail="disabled1@example.test",
     proxyAddresses=["SMTP:disabled1@example.test", "smtp:disabled1.old@example.test"])
user("proxyonly", proxyAddresses=["SMTP:proxyonly@example.test"])
user("nomail1")
add("CN=Sales,OU=People,%s" % base, objectClass="group", sAMAccountName="sales",
    mail="sales@example.test",
    proxyAddresses=["SMTP:sales@example.test", "smtp:sales.team@example.test"])
add("CN=Partner,OU=People,%s" % base, objectClass="contact", mail="partner@partner.example")
db.transaction_commit()
user("rcptdir", ou="Services")
db.setpassword("(sAMAccountName=rcptdir)", "Rcptd1r!Test")
sid = db.search(base=base, expression="(sAMAccountName=rcptdir)", attrs=["objectSid"])[0]
sid = str(ndr_unpack(security.dom_sid, sid["objectSid"][0]))
SDUtils(db).dacl_add_ace("CN=Deleted Objects,%s" % base, "(A;CI;LCRP;;;%s)" % sid)
