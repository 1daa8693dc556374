/* SPDX-License-Identifier: Apache-2.0 */
/* The warmer program, as Kaniko ships it beside the executor (`executor warm` is the same). */
#include "executor/warmer.h"

int main(int argc, char **argv)
{
        return warmer_main(argc, argv);
}
