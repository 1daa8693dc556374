/* SPDX-License-Identifier: Apache-2.0 */
/* What ACR credentials read from outside: an azure.json, the exchange's answer (a refresh
 * token), an Azure AD or ACR error body, and a registry host name. Rejecting input is fine;
 * crashing, leaking or hanging is not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "executor/acr_creds.h"
#include "executor/azure_aad.h"
#include "executor/azure_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct azure_config c = {0};
        struct lerr *err = NULL;
        char *s = NULL;

        if (size > AZURE_RESPONSE_MAX)
                return 0;
        if (azure_config_parse((const char *) data, size, &c, &err) == 0)
                azure_config_done(&c);
        lerr_free(err);
        err = NULL;
        if (acr_refresh_token_parse((const char *) data, size, &s, &err) == 0)
                free(s);
        lerr_free(err);
        free(azure_error_message((const char *) data, size));

        char *text = strndup((const char *) data, size);
        if (!text)
                return 0;
        (void) acr_host_match(text, NULL);
        free(text);
        return 0;
}
