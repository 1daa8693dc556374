/* SPDX-License-Identifier: Apache-2.0 */
/* The Azure Blob Storage context (context_azure.h): which URLs are blob URLs, the Shared Key
 * string to sign and signature (expected values computed with Python's hmac and base64), the
 * x-ms-date format. */
#include "executor/context_azure.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "tap.h"

static void url_is(const char *url, const char *want_account)
{
        char *account = NULL;
        bool is = azure_blob_url(url, &account);
        if (want_account)
                ok(is && account && strcmp(account, want_account) == 0, "%s: account %s", url,
                   want_account);
        else
                ok(!is, "%s: not a blob URL", url);
        free(account);
}

int main(void)
{
        url_is("https://myaccount.blob.core.windows.net/ctx/context.tar.gz", "myaccount");
        url_is("https://MyAccount.Blob.Core.Windows.Net/ctx/c.tar.gz", "myaccount");
        url_is("http://acct.blob.core.windows.net:8080/c/x.tgz?sv=1&sig=abc", "acct");
        url_is("https://cn1.blob.core.chinacloudapi.cn/c/x.tar.gz", "cn1");
        url_is("https://gov.blob.core.usgovcloudapi.net/c/x.tar.gz", "gov");
        url_is("https://de.blob.core.cloudapi.de/c/x.tar.gz", "de");
        url_is("https://blob.core.windows.net/c/x.tar.gz", NULL);
        url_is("https://a.b.blob.core.windows.net/c/x.tar.gz", NULL);
        url_is("https://user@acct.blob.core.windows.net/c/x.tar.gz", NULL);
        url_is("https://acct.blob.core.windows.net.example.com/c/x.tar.gz", NULL);
        url_is("https://example.com/acct.blob.core.windows.net/x.tar.gz", NULL);
        url_is("s3://acct.blob.core.windows.net/x", NULL);

        const char *date = "Sat, 28 Nov 2026 13:05:00 GMT";
        char *sts = azure_string_to_sign("myaccount", "/ctx/build%20context.tar.gz", date);
        is_str(sts,
               "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Sat, 28 Nov 2026 13:05:00 GMT\n"
               "x-ms-version:2021-08-06\n/myaccount/ctx/build%20context.tar.gz",
               "the string to sign: verb, eleven empty headers, x-ms- headers, resource");
        free(sts);
        char *auth = NULL;
        is_int(azure_shared_key("myaccount", "bGFkaW5nLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmNkZWY=",
                                "/ctx/build%20context.tar.gz", date, &auth),
               0, "a base64 key signs");
        is_str(auth, "SharedKey myaccount:cJESojzRMGRWs/HbkGtq9NhPMs0T6x4/KMR+g7RbFOo=",
               "the Shared Key signature (HMAC-SHA256 with the decoded key)");
        free(auth);
        auth = NULL;
        is_int(azure_shared_key("myaccount", "not base64!", "/c/x", date, &auth), -EINVAL,
               "a key that is not base64 is refused");
        is_int(azure_shared_key("myaccount", "", "/c/x", date, &auth), -EINVAL,
               "an empty key is refused");
        ok(auth == NULL, "nothing is returned for a bad key");

        char d[32];
        azure_date(1795871100, d);
        is_str(d, "Sat, 28 Nov 2026 13:05:00 GMT", "x-ms-date is RFC 1123 in GMT");
        return tap_done();
}
