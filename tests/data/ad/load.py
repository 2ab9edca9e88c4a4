#!/usr/bin/python3
# load.py - the test directory of scripts/test-samba-ad, added offline (server stopped)
# through Samba's own python SamDB: about 10x faster than ldapadd. Only Debian's
# /usr/bin/python3 has the samba modules.
#
# Speed: each add costs time in proportion to the users already there (Samba's index lists
# for objectClass=user and the like are copied on every add, perf: ldb_kv_index_add_new,
# ldb_kv_index_sub_transaction_commit), so the load is quadratic whatever we do; one
# transaction per 500 users keeps the transaction's index cache small (3000 users: 8.2 s
# instead of 13.4 s in one transaction; 20000: 3.7-4.3 minutes of CPU, 7-9 minutes on the
# loaded test machine, where one transaction was stopped after more than 8).
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
#   the Exchange attribute msExchRecipientTypeDetails (its real attributeID and schemaIDGUID,
#     added to the schema's mailRecipient class, an auxiliary class of user, contact and
#     group), and in OU=Exchange (uAC 514 = disabled, as Exchange creates these):
#     shared1 (4, shared mailbox), room1 (16), equip1 (32): mail-enabled disabled accounts
#     that receive mail; gone1 (1, a user mailbox whose account is disabled: disabled)
#   rcptdir    in OU=Services: the service account (a plain user, password Rcptd1r!Test),
#              granted List Contents + Read Property on CN=Deleted Objects, inherited by the
#              tombstones in it (on Windows: dsacls "CN=Deleted Objects,DC=..." /G
#              DOMAIN\rcptdir:LCRP): an incremental sync finds deletions there
import sys
import time

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
lp.set("dsdb:schema update allowed", "true")
db = SamDB(url=private + "/sam.ldb", session_info=system_session(), lp=lp)
base = str(db.domain_dn())
schema = str(db.get_schema_basedn())
t0 = time.time()


def add(dn, **attrs):
    m = {"dn": dn}
    m.update(attrs)
    db.add(m)


def user(cn, ou="People", uac="512", **attrs):
    add("CN=%s,OU=%s,%s" % (cn, ou, base), objectClass="user", sAMAccountName=cn,
        userAccountControl=uac, **attrs)




def schema_update():
    db.modify_ldif("dn:\nchangetype: modify\nadd: schemaUpdateNow\nschemaUpdateNow: 1\n")


# Exchange's attribute as Exchange's schema extension defines it (ms-Exch-Recipient-Type-
# Details, Large Integer, single-valued, indexed); Exchange puts it on its own auxiliary
# classes, mailRecipient is the one user, contact and group share here
db.add_ldif("""dn: CN=ms-Exch-Recipient-Type-Details,%s
objectClass: top
objectClass: attributeSchema
cn: ms-Exch-Recipient-Type-Details
attributeID: 1.2.840.113556.1.4.7000.102.50855
attributeSyntax: 2.5.5.16
oMSyntax: 65
isSingleValued: TRUE
searchFlags: 1
lDAPDisplayName: msExchRecipientTypeDetails
schemaIDGUID:: +KGbBgpUqUK/JqfdNUdTRg==
adminDisplayName: ms-Exch-Recipient-Type-Details
showInAdvancedViewOnly: TRUE
""" % schema)
schema_update()
db.modify_ldif("dn: CN=Mail-Recipient,%s\nchangetype: modify\nadd: mayContain\n"
               "mayContain: msExchRecipientTypeDetails\n" % schema)
schema_update()

db.transaction_start()
for ou in ("People", "Staff", "Services", "Exchange"):
    add("OU=%s,%s" % (ou, base), objectClass="organizationalUnit")
for i in range(1, nusers + 1):
    u = "u%04d" % i
    user(u, mail="%s@example.test" % u,
         proxyAddresses=["SMTP:%s@example.test" % u, "smtp:%s.alias@example.test" % u,
                         "X500:/o=Example/ou=Exchange/cn=Recipients/cn=%s" % u,
                         "SIP:%s.sip@example.test" % u])
    if i % 500 == 0:
        db.transaction_commit()
        db.transaction_start()
user("disabled1", uac="514", mail="disabled1@example.test",
     proxyAddresses=["SMTP:disabled1@example.test", "smtp:disabled1.old@example.test"])
user("proxyonly", proxyAddresses=["SMTP:proxyonly@example.test"])
user("nomail1")
add("CN=Sales,OU=People,%s" % base, objectClass="group", sAMAccountName="sales",
    mail="sales@example.test",
    proxyAddresses=["SMTP:sales@example.test", "smtp:sales.team@example.test"])
add("CN=Partner,OU=People,%s" % base, objectClass="contact", mail="partner@partner.example")
for cn, rtd in (("shared1", "4"), ("room1", "16"), ("equip1", "32"), ("gone1", "1")):
    user(cn, ou="Exchange", uac="514", mail="%s@example.test" % cn,
         proxyAddresses=["SMTP:%s@example.test" % cn], msExchRecipientTypeDetails=rtd)
db.transaction_commit()
user("rcptdir", ou="Services")
db.setpassword("(sAMAccountName=rcptdir)", "Rcptd1r!Test")
sid = db.search(base=base, expression="(sAMAccountName=rcptdir)", attrs=["objectSid"])[0]
sid = str(ndr_unpack(security.dom_sid, sid["objectSid"][0]))
SDUtils(db).dacl_add_ace("CN=Deleted Objects,%s" % base, "(A;CI;LCRP;;;%s)" % sid)
print("load.py: %d users in %.1f s" % (nusers, time.time() - t0))
