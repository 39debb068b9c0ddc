/* bench_empty: a program that does nothing, for timing start-up natively and
 * under ckpt_launch. */
int main(void) { return 0; }
