src / main.c
